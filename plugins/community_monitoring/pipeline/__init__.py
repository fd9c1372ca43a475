"""Task callables the DAG files wire together. Heavy imports happen inside the tasks."""
