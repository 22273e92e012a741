#!/usr/bin/env bash
# Re-extract the website's UI strings (babel.cfg) into babelwire/web/locales/messages.pot
# and merge them into every language's messages.po, keeping the existing translations.
# New or changed strings come out empty or marked fuzzy: translate them and drop the
# "fuzzy" flag (tests/test_ui_catalogs.py fails until every language has them).
# Usage: scripts/update-catalogs.sh [LANG...]   (LANG... adds new languages)
set -euo pipefail
cd "$(dirname "$0")/.."

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALES=babelwire/web/locales
POT=$LOCALES/messages.pot

"$PYBABEL" --quiet extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 \
    --project=Babelwire --copyright-holder="Babelwire contributors" \
    --add-comments=Translators: -o "$POT" .

langs=("$@")
for dir in "$LOCALES"/*/LC_MESSAGES; do
    [ -d "$dir" ] && langs+=("$(basename "$(dirname "$dir")")")
done

for lang in $(printf '%s\n' "${langs[@]}" | sort -u); do
    po=$LOCALES/$lang/LC_MESSAGES/messages.po
    if [ -f "$po" ]; then
        "$PYBABEL" --quiet update --ignore-obsolete -i "$POT" -d "$LOCALES" -l "$lang"
    else
        "$PYBABEL" --quiet init -i "$POT" -d "$LOCALES" -l "$lang"
        echo "created $po: check its Plural-Forms header" >&2
    fi
done
