"""Tests of glassbox.compress (a package, so its conftest is ``compress.conftest``)."""
