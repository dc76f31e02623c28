"""Implementation drills: the user writes a function, dlprep checks it.

``harness`` is the toolkit a drill's checks use (``h.close``, ``h.forbid``...);
``runner`` loads a user's file and runs a drill's checks on it, in the
current process. Both are imported only where a drill is checked, never by
the CLI's start-up path.
"""
