"""The reachability model: what the intent means, what the emitted rows do, and both compared.

- :mod:`~netc.reach.reference`: contract section 2 evaluated on the IR (the definition);
- :mod:`~netc.reach.acl_eval`: the emitted OVN rows evaluated on concrete packets, with
  :mod:`~netc.reach.ovn_match` (the match language), :mod:`~netc.reach.northbound`
  (rows by OVN names) and :mod:`~netc.reach.routing` (the path through routers);
- :mod:`~netc.reach.nat` and :mod:`~netc.reach.rownat`: NAT toward the external
  network, as the intent means it and as the NAT rows and load balancers do it;
- :mod:`~netc.reach.matrix`: both asked the same questions (``netc verify``, the
  equivalence tests); ``netc explain`` shows one answer and its reasons.
"""
