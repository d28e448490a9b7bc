//! The streaming resize stage (being written).
