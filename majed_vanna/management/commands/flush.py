"""``manage.py flush``: Django's command, with a missing confirmation answered in one line (contract §7).

Django's asks with ``input()``: with stdin closed (``</dev/null``, a script) it printed an ``EOFError``
traceback. ``--yes`` (like every project command that asks), ``--noinput`` or ``--no-input`` skip the question.
"""

from django.core.management.commands import flush

from majed_vanna.commands import YES_HELP, OperatorCommand


class Command(OperatorCommand, flush.Command):
    # Django's test cases call flush with its own stealth options (reset_sequences, allow_cascade, ...).
    stealth_options = (*flush.Command.stealth_options, *OperatorCommand.stealth_options)

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--yes", action="store_false", dest="interactive", help=YES_HELP)
