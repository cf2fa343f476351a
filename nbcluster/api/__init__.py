"""The object model: kinds, validation, defaulting, selectors, quantities, merging. No I/O."""
