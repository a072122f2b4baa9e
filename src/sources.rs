//! Importers of public latency measurements.
