//! The streaming PNG decoder (being written).
