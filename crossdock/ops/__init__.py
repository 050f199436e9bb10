"""Operations: logging, metrics, tracing, audit and the dashboard."""
