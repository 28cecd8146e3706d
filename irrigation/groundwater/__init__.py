"""MODFLOW 6 groundwater models: build with flopy, solve with ``mf6`` or the embedded solver."""
