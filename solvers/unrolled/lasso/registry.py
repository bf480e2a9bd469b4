"""Name → class of the unrolled Lasso models, for the paper scripts."""
from .alista import ALISTA
from .hyperlista import HyperLISTA
from .lista import LISTA
from .lista_cp import LISTACP
from .slista import SLISTA
from .tilista import TiLISTA

from l2obench.objectives.validation import check_choice

MODELS = {
    "lista": (LISTA, {}),
    "lista-cp": (LISTACP, {"support_selection": False}),
    "lista-cpss": (LISTACP, {"support_selection": True}),
    "tilista": (TiLISTA, {}),
    "alista": (ALISTA, {}),
    "hyperlista": (HyperLISTA, {}),
    "slista": (SLISTA, {}),
}


def make_model(name, n_layers=16, **kwargs):
    """Instantiate the model ``name`` (a key of ``MODELS``) with depth ``n_layers``."""
    cls, defaults = MODELS[check_choice("model", name, MODELS)]
    return cls(n_layers=n_layers, **{**defaults, **kwargs})
