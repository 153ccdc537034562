"""``netc test``: the expectation documents checked against the world and answered.

- :mod:`~netc.expect.cases`: each written expectation resolved to the ports it covers
  and the traffic it is about, every problem a diagnostic (``netc check`` reports them);
- :mod:`~netc.expect.outcome`: each case answered by the class model that ``netc
  verify`` uses, a failure explained by the rules that decide it (as ``netc explain``);
- :mod:`~netc.expect.golden`: the whole verify matrix as a text to keep in review;
- :mod:`~netc.expect.junit`: the results as JUnit XML for CI;
- :mod:`~netc.expect.command`: what the command line runs and prints.
"""
