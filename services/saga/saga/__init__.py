"""The saga-state projector: a read model of every order saga, built from the events alone."""
