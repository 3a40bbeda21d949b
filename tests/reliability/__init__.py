"""The reliability suite: load, overload (and, from other branches, crashes, faults, fuzzing)."""
