"""Operations: health and readiness probes, Prometheus metrics, structured logs with a request id, API rate
limits per key (README « Exploitation »)."""
