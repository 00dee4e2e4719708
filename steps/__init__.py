"""Step libraries: one module per capability, loaded by behave; a package only so lint-imports can see them."""
