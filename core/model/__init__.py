"""A model: its description on disk (spec), loading and saving (io), the loaded network (model)."""
