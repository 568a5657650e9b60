"""Tests of sianode.transport (a package so test module names do not clash with other layers)."""
