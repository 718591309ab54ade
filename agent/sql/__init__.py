"""The one path every agent query takes to a data source: ``gate`` (parse and check) then ``runners`` (read-only
execution with timeouts and caps). ``types`` holds what the parts share."""
