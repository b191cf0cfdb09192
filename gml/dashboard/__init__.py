"""gml's read-only view of searches: the local web dashboard, the offline HTML report and the TensorBoard/Optuna
exports (``pip install 'gml[dashboard]'``; the controller and ``gml.search`` never import this package).

- :mod:`.task_data` reads ``.search-run/`` (stores opened read-only) into what the pages draw;
- :mod:`.server` serves it (``search-ctl dashboard``), :mod:`.report` writes it to one HTML file
  (``search-ctl report``), :mod:`.pages` and ``static/`` hold the HTML shell and the script that draws the plots;
- :mod:`.export_tensorboard` and :mod:`.export_optuna` write a task for TensorBoard's HParams dashboard and as an
  Optuna study (``search-ctl export --tensorboard/--optuna``).
"""
