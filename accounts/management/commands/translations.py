"""manage.py translations — the French catalogues (see config/translations.py).

    translations update [APP ...]    extract, merge into APP/locale/fr/…/django.po, compile
    translations compile [APP ...]   compile django.po into django.mo
    translations check [APP ...]     missing, stale, untranslated or fuzzy strings; exit 1 if any
    translations unmarked [APP ...]  template text no translate tag covers

With no APP, every catalogue ("config" is the project's own: config/ and the shared templates).
"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Update, compile and check the French translation catalogues."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["update", "compile", "check", "unmarked"])
        parser.add_argument("apps", nargs="*")

    def handle(self, *args, action, apps, **options):
        from config import translations

        known = translations.catalogue_names()
        unknown = [app for app in apps if app not in known]
        if unknown:
            raise CommandError(f"Unknown catalogue(s): {', '.join(unknown)}. Known: {', '.join(known)}")
        names = apps or known
        if action == "update":
            for name in names:
                total, added, removed = translations.update(name)
                self.stdout.write(f"{name}: {total} strings, {added} new, {removed} dropped")
        elif action == "compile":
            for name in names:
                translations.compile_catalog(name)
                self.stdout.write(f"{name}: compiled")
        elif action == "check":
            problems = [p for name in names for p in translations.check(name)]
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} problem(s) in the catalogues")
            self.stdout.write("The catalogues are complete.")
        else:
            lines = translations.unmarked(names)
            for line in lines:
                self.stdout.write(line)
            self.stdout.write(f"{len(lines)} unmarked text(s)")
