"""Tests of the shipped scorer and reward."""
