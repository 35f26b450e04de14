"""Organisation model: regions, departments, units (centres, halls, windows, stations), terminals."""
