"""Problems of the suite: values, gradients, metrics and high-accuracy reference solves."""
