//! Datasets: moons, circles, spirals, XOR, blobs, and CSV files.
