"""A CSD simulator for tests and the demo (issue 15).

It is not part of the book: it never imports ``app``. It claims the service's outbound
settlement instructions over HTTP, keeps the depository's own books, matches, settles DVP with
the T2S partial settlement rules and answers with sese.024/sese.025 or MT548/MT544-547, exactly
as /work/MESSAGE_CONTRACT.md (the contract both sides follow) writes them, except where the
contract departs from the published definition: sese.020.001.07 is read in its ISO shape (see
``messages.iso20022_in.read_sese020``).

- ``messages/``: read our instructions (sese.023, sese.020, MT540-543); write the answers.
- ``engine``: the depository's books and rules, pure (no I/O, the clock passed in).
- ``scenario``: the configuration, from a JSON or TOML file or built in code.
- ``client`` + ``loop``: the HTTP side: claim, mark sent, answer; ``Simulator.step`` and
  ``Simulator.run_day`` for tests, ``Simulator.run`` for the ``settlement csd-sim`` command.
"""
