"""COMPTOIR_CACHE_URL → Django's CACHES entry (the rate limits' counters live there). Pure stdlib: settings
import it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def cache_from_url(url: str) -> dict[str, Any]:
    """`locmem://` (one process; the default), `db://table_name` (shared by every process on the database;
    create the table once with `comptoir createcachetable`), `redis://host:6379/0` (needs the `redis`
    package), `memcached://host:11211` (needs `pymemcache`)."""
    parts = urlsplit(url or "locmem://")
    scheme = parts.scheme
    if scheme == "locmem":
        # Counters of every key × endpoint group × window: room enough that culling never drops live ones.
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": parts.netloc or "comptoir",
                "OPTIONS": {"MAX_ENTRIES": 50_000}}
    if scheme == "db":
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": parts.netloc or "comptoir_cache", "OPTIONS": {"MAX_ENTRIES": 100_000}}
    if scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "memcached":
        return {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": parts.netloc}
    raise ValueError(f"COMPTOIR_CACHE_URL: unknown scheme {scheme!r} (locmem, db, redis, rediss, memcached)")
