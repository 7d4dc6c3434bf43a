"""The benchmark driver: environments, server processes, the plan and the report."""
