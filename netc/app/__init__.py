"""The use cases the command line and the gRPC service share.

"Load intent -> check -> compile -> plan -> apply" exists here once; ``netc/cli.py``
and ``netc/service/`` only turn their inputs (flags, RPCs) into calls of this layer
and render what comes back. Nothing here parses flags, prints, or knows gRPC.

- :mod:`netc.app.offline`: compile and plan without a database.
- :mod:`netc.app.northbound`: open a Northbound connection, plan and apply live.
"""
