"""Fitting a hostname model from declared sources: ``sources`` reads them, ``dataset`` splits them,
``fit`` trains, ``evaluate`` measures and picks thresholds, ``run`` ties it into one reproducible call."""
