"""A task on disk: its store (SQLite), job records and states, the controller lock, the ``.search-run/`` layout
(``workspace``), creating/resuming/opening tasks (``lifecycle``) and the human-readable files (``summary_files``)."""
