"""Bootstrap the platform's infrastructure.

Usage: python -m shared.bootstrap kafka|storage|search|consul|all [...]

Creates Kafka topics, S3 buckets, Elasticsearch index mappings and Consul KV defaults on the
servers named by the SYNAPSE_* variables (shared/infra_settings.py). Idempotent: existing
resources are checked, not recreated. Prints one line per step; exits 1 if any step failed.
"""

from __future__ import annotations

import sys

from shared.bootstrap.runner import main

if __name__ == "__main__":
    sys.exit(main())
