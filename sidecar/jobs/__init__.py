"""Background work: the delivery inbox and the workers that drain it."""
