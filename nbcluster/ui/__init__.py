"""The notebook face: magics, widgets, tables (IPython, ipywidgets, pandas)."""
