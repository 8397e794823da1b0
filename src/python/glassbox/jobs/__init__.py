"""Jobs over files: what the command line's subcommands share.

- ``files``: the one reader of the files a user names: MODEL (a saved glassbox model, ``.onnx``,
  TorchScript, or with ``--allow-pickle`` a pickled / joblib scikit-learn, XGBoost or LightGBM
  model) and DATA read whole (``load_data``) or in row batches (``Source``), column selection,
  the one-line errors and exit codes (``run_command``).
- ``output``: the writers of a streamed result (CSV appended, Parquet one row group per batch,
  NPY written in place through a memory map) and the progress sidecar that makes a run resumable.
- ``explain``: ``glassbox explain``, the streamed, resumable attribution job.
- ``effects``: ``glassbox importance`` and ``glassbox pdp`` (global tables).
"""
