"""Where the platform finds its infrastructure: one typed settings class for every server."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ValidationError

# Logical PostgreSQL databases and the port of the local cluster that holds each one.
POSTGRES_PORTS: dict[str, int] = {
    "models_db": 5432,
    "users_db": 5433,
    "experiments_db": 5434,
    "metrics_db": 5435,
}
POSTGRES_USER = "synapse"
POSTGRES_PASSWORD = "synapse"

_SQLALCHEMY_SCHEMES = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "pgsql": "postgresql+psycopg2",
}


class InfraSettings(BaseSettings):
    """Addresses and credentials of the infrastructure servers (SYNAPSE_* variables)."""

    model_config = SettingsConfigDict(env_prefix="SYNAPSE_", extra="ignore")

    # SYNAPSE_KAFKA_BOOTSTRAP: Kafka brokers, comma-separated host:port pairs.
    kafka_bootstrap: str = "localhost:9092"
    # SYNAPSE_KAFKA_REPLICATION_FACTOR: replication of the topics bootstrap creates.
    kafka_replication_factor: int = 1
    # SYNAPSE_REDIS_URL: cache and lock server, redis://[user:pass@]host:port/db (or rediss://,
    # unix:///path?db=N).
    redis_url: str = "redis://localhost:6379/0"
    # SYNAPSE_REDIS_SOCKET_TIMEOUT: seconds a Redis command may take before it fails.
    redis_socket_timeout: float = 2.0
    # SYNAPSE_REDIS_CONNECT_TIMEOUT: seconds to open a Redis connection before failing.
    redis_connect_timeout: float = 2.0
    # SYNAPSE_S3_ENDPOINT: host:port of the S3 (MinIO) server, without a scheme.
    s3_endpoint: str = "localhost:9000"
    # SYNAPSE_S3_ACCESS_KEY: S3 access key id.
    s3_access_key: str = "minioadmin"
    # SYNAPSE_S3_SECRET_KEY: S3 secret key.
    s3_secret_key: str = "minioadmin"
    # SYNAPSE_S3_SECURE: talk HTTPS to the S3 server.
    s3_secure: bool = False
    # SYNAPSE_S3_REGION: region the buckets are created in.
    s3_region: str = "us-east-1"
    # SYNAPSE_ELASTICSEARCH_URL: base URL of the Elasticsearch 8 server.
    elasticsearch_url: str = "http://localhost:9200"
    # SYNAPSE_ELASTICSEARCH_TIMEOUT: seconds an Elasticsearch request may take.
    elasticsearch_timeout: float = 5.0
    # SYNAPSE_CONSUL_HOST: host of the Consul agent.
    consul_host: str = "localhost"
    # SYNAPSE_CONSUL_PORT: HTTP port of the Consul agent.
    consul_port: int = 8500
    # SYNAPSE_CONSUL_SCHEME: http or https.
    consul_scheme: str = "http"
    # Which adapter serves each infrastructure port (tables in shared/backends.py). The
    # defaults run everything in-process, so tests and a bare checkout need no servers;
    # `python -m infra env` switches every port to the local stack's servers.
    # SYNAPSE_EVENTS_BACKEND: event bus, memory | kafka.
    events_backend: str = "memory"
    # SYNAPSE_CACHE_BACKEND: key-value cache, memory | redis.
    cache_backend: str = "memory"
    # SYNAPSE_STORAGE_BACKEND: object store of artifacts and checkpoints, memory | s3.
    storage_backend: str = "memory"
    # SYNAPSE_SEARCH_BACKEND: search index of catalogue documents, memory | elasticsearch.
    search_backend: str = "memory"
    # SYNAPSE_DISCOVERY_BACKEND: service registry, static (in-process) | consul.
    discovery_backend: str = "static"
    # SYNAPSE_LOCKS_BACKEND: distributed locks, memory | redis.
    locks_backend: str = "memory"
    # SYNAPSE_SERVICE_HOST: address other instances reach this one at (announced to discovery).
    service_host: str = "localhost"
    # SYNAPSE_SERVICE_PORT: port this instance listens on; unset means its manifest port.
    service_port: int | None = None
    # SYNAPSE_KAFKA_CLIENT_ID: prefix of the Kafka client ids, so broker logs show who connected.
    kafka_client_id: str = "synapsenet"
    # SYNAPSE_DB_<ALIAS>_URL: PostgreSQL URL of each logical database, e.g.
    # postgresql://synapse:synapse@localhost:5432/models_db. Django reads the same variables
    # (services/django_project/databases.py); unset means a local SQLite file there.
    db_models_db_url: str | None = None
    db_users_db_url: str | None = None
    db_experiments_db_url: str | None = None
    db_metrics_db_url: str | None = None

    def kafka_servers(self) -> list[str]:
        """Return the Kafka bootstrap servers as a list."""
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]

    def database_url(self, alias: str) -> str:
        """Return the PostgreSQL URL of a logical database: configured, else the local stack's."""
        if alias not in POSTGRES_PORTS:
            raise ValidationError(
                f"unknown logical database {alias!r}", details={"choices": sorted(POSTGRES_PORTS)}
            )
        configured = getattr(self, f"db_{alias}_url")
        return configured or local_database_url(alias)


def local_database_url(alias: str, host: str = "localhost") -> str:
    """Return the URL of a logical database on the local stack's PostgreSQL cluster."""
    port = POSTGRES_PORTS[alias]
    return f"postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{host}:{port}/{alias}"


def sqlalchemy_url(url: str) -> str:
    """Return a SYNAPSE_DB_* URL in SQLAlchemy form (postgres:// → postgresql+psycopg2://)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    driver = _SQLALCHEMY_SCHEMES.get(scheme.lower())
    return f"{driver}{sep}{rest}" if driver and sep else url


@lru_cache(maxsize=1)
def get_infra_settings() -> InfraSettings:
    """Return the process-wide infrastructure settings, read from the environment once."""
    return InfraSettings()
