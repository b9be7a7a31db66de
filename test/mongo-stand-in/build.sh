#!/usr/bin/env bash
# Builds the MongoDB stand-in the tests run the mongodb store engine against: fetches the
# mongo-java-server jars with Maven and compiles MongoStandIn.java. Idempotent: does nothing when the
# output is there and newer than its sources; safe to run from several processes at once (they
# build one after the other under a lock, the later ones finding it built). Output goes to
# test/mongo-stand-in/build/ (gitignored).
#
# Run it as `bash test/mongo-stand-in/build.sh`; the test helper (test/helpers/mongo.ts) starts
#   java -cp 'build/classes:build/lib/*' MongoStandIn [--port N] [--h2 FILE]
set -euo pipefail
cd "$(dirname "$0")"

OUT=build
STAMP="$OUT/.built"

built() {
  [ -f "$STAMP" ] && [ "$STAMP" -nt MongoStandIn.java ] && [ "$STAMP" -nt pom.xml ]
}

built && exit 0

for tool in java javac mvn; do
  command -v "$tool" >/dev/null || {
    echo "build.sh: $tool is needed for the MongoDB stand-in (JDK 17+ and Maven)" >&2
    exit 1
  }
done

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9
built && exit 0

rm -rf "$OUT/lib" "$OUT/classes" "$STAMP"
mkdir -p "$OUT/lib" "$OUT/classes"
# Maven's output is kept for a failure only (even -q leaves terminal escapes on stdout).
if ! log=$(mvn -q -B dependency:copy-dependencies -DoutputDirectory="$OUT/lib" -DincludeScope=runtime 2>&1); then
  echo "$log" >&2
  echo "build.sh: fetching mongo-java-server with Maven failed" >&2
  exit 1
fi
javac -nowarn -d "$OUT/classes" -cp "$OUT/lib/*" MongoStandIn.java
touch "$STAMP"
