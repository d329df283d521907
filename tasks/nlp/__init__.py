"""Our spaCy pipeline: the model, its rule components, and parses stored between stages."""
