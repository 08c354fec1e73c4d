"""`pylon up --watch`: hot reload of components and spec (see `reloader`)."""
