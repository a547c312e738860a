"""Text embedding shared by planners and critics."""
