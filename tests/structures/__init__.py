"""Tests of sianode.structures (a package so test module names do not clash with other layers)."""
