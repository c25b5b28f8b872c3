package dev.wisp.embeddeddb;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;

/**
 * The values a {@link NonUniqueIndex} files a document under, and looks a filter's values up by.
 * <p>
 * Only plain values, alone or in an {@code $in} list, are looked up: strings, ObjectIds, booleans, dates and the
 * numbers the driver sends (int, long, double). Each becomes an "atom" that is equal to another exactly when the
 * library's matcher calls the two equal (numbers compare as its normalized doubles, everything else by equals),
 * so looking an atom up finds every document the matcher would match on that key. A document is filed under
 * every value a plain equality could match: each element of an array, through arrays of subdocuments along a
 * dotted path. Where that is not certain (a nested array on the path or at its end, a value of another type,
 * too many combinations), the
 * document has no tuples and is a candidate of every lookup instead.
 */
final class IndexValues {

    /** Null and missing: never looked up (a filter on null also matches missing fields, and is left to a scan). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "NULL";
        }
    };

    /** Above every atom: the end of a prefix range. */
    static final Object MAX = new Object() {
        @Override
        public String toString() {
            return "MAX";
        }
    };

    /** Neither a lookup value nor a value known never to equal one. */
    static final Object OTHER = new Object();

    /** Keeps a document with arrays in several keys to a few tuples (MongoDB refuses parallel arrays anyway). */
    private static final int MAX_TUPLES = 64;

    private IndexValues() {
    }

    /** The atom of a value, {@link #NULL} for null or missing, {@link #OTHER} for anything else. */
    static Object atom(Object value) {
        if (value == null || value instanceof Missing) {
            return NULL;
        }
        Class<?> type = value.getClass();
        if (type == String.class || type == ObjectId.class || type == Boolean.class || type == Instant.class) {
            return value;
        }
        if (type == Integer.class || type == Double.class) {
            return number(((Number) value).doubleValue());
        }
        if (type == Long.class) {
            // As the library's normalizeValue: a long a double cannot hold stays a long.
            long longValue = (Long) value;
            return longValue == (long) (double) longValue ? number((double) longValue) : value;
        }
        return OTHER;
    }

    private static Double number(double value) {
        return value == 0.0 ? 0.0 : value;
    }

    private static int rank(Object atom) {
        if (atom == NULL) {
            return 0;
        } else if (atom == MAX) {
            return 7;
        }
        Class<?> type = atom.getClass();
        if (type == Double.class) {
            return 1;
        } else if (type == Long.class) {
            return 2;
        } else if (type == String.class) {
            return 3;
        } else if (type == ObjectId.class) {
            return 4;
        }
        return type == Boolean.class ? 5 : 6;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final Comparator<Object> ATOM_ORDER = (a, b) -> {
        int rankA = rank(a);
        int rankB = rank(b);
        if (rankA != rankB || rankA == 0 || rankA == 7) {
            return Integer.compare(rankA, rankB);
        }
        return ((Comparable) a).compareTo(b);
    };

    /** Tuples by their atoms in turn; a prefix before every tuple it starts. */
    static final Comparator<Object[]> TUPLE_ORDER = (a, b) -> {
        int length = Math.min(a.length, b.length);
        for (int i = 0; i < length; i++) {
            int compare = ATOM_ORDER.compare(a[i], b[i]);
            if (compare != 0) {
                return compare;
            }
        }
        return Integer.compare(a.length, b.length);
    };

    /** The paths of an index's keys, or null when one is not a plain dotted path (a position, an operator). */
    static String[][] paths(List<String> keys) {
        String[][] paths = new String[keys.size()][];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = keys.get(i).split("\\.", -1);
            for (String fragment : paths[i]) {
                if (fragment.isEmpty() || fragment.startsWith("$") || fragment.chars().allMatch(Character::isDigit)) {
                    return null;
                }
            }
        }
        return paths;
    }

    /** Keeps a lookup of {@code $in} lists in several keys to a few ranges. */
    private static final int MAX_PREFIXES = 256;

    /**
     * The atoms a filter's condition on one key can equal: one for a plain value, those of the list for
     * {@code {$in: [...]}} of plain values only (each once); null for anything else (null, an empty list, arrays,
     * regexes or subdocuments in it, other operators), which is not looked up.
     */
    static List<Object> conditionAtoms(Object value) {
        return condition(value, true);
    }

    /** As {@link #conditionAtoms}, but the values as the filter gives them (one for each atom). */
    static List<Object> conditionValues(Object value) {
        return condition(value, false);
    }

    private static List<Object> condition(Object value, boolean asAtoms) {
        if (value instanceof Document condition) {
            if (condition.size() != 1 || !(condition.get("$in") instanceof Collection<?> values) || values.isEmpty()) {
                return null;
            }
            List<Object> atoms = new ArrayList<>(values.size());
            List<Object> given = new ArrayList<>(values.size());
            for (Object element : values) {
                Object atom = atom(element);
                if (atom == NULL || atom == OTHER) {
                    return null;
                }
                int before = atoms.size();
                add(atom, atoms);
                if (atoms.size() > before) {
                    given.add(element);
                }
            }
            return asAtoms ? atoms : given;
        }
        Object atom = value == null ? NULL : atom(value);
        return atom == NULL || atom == OTHER ? null : List.of(asAtoms ? atom : value);
    }

    /**
     * The prefixes (atoms of the filter's conditions on the index's first keys, as many as it names in a row) whose
     * ranges hold every document that can match the filter: one for plain values, one per combination where a key
     * is {@code {$in: [...]}}, each once; null when it names not even the first key.
     */
    static List<Object[]> prefixes(Document filter, List<String> keys) {
        List<Object[]> prefixes = new ArrayList<>();
        prefixes.add(new Object[0]);
        for (String key : keys) {
            List<Object> atoms = conditionAtoms(filter.get(key));
            if (atoms == null || prefixes.size() * atoms.size() > MAX_PREFIXES) {
                break;
            }
            List<Object[]> next = new ArrayList<>(prefixes.size() * atoms.size());
            for (Object[] prefix : prefixes) {
                for (Object atom : atoms) {
                    Object[] extended = Arrays.copyOf(prefix, prefix.length + 1);
                    extended[prefix.length] = atom;
                    next.add(extended);
                }
            }
            prefixes = next;
        }
        return prefixes.get(0).length == 0 ? null : prefixes;
    }

    /**
     * Every combination of the document's atoms per key (a key with none has {@link #NULL}), without those whose
     * first atom is {@link #NULL} as no lookup can want them; null when the document must be a candidate of every
     * lookup.
     */
    static List<Object[]> tuples(Document document, String[][] paths) {
        List<List<Object>> atomsPerKey = new ArrayList<>(paths.length);
        int combinations = 1;
        for (int i = 0; i < paths.length; i++) {
            List<Object> atoms = new ArrayList<>(1);
            if (!collect(document, paths[i], 0, atoms)) {
                return null;
            }
            if (i == 0) {
                atoms.removeIf(atom -> atom == NULL);
                if (atoms.isEmpty()) {
                    return List.of();
                }
            } else if (atoms.isEmpty()) {
                atoms.add(NULL);
            }
            combinations *= atoms.size();
            if (combinations > MAX_TUPLES) {
                return null;
            }
            atomsPerKey.add(atoms);
        }
        List<Object[]> tuples = new ArrayList<>(combinations);
        tuples.add(new Object[paths.length]);
        for (int i = 0; i < paths.length; i++) {
            List<Object> atoms = atomsPerKey.get(i);
            List<Object[]> next = new ArrayList<>(combinations);
            for (Object[] tuple : tuples) {
                for (Object atom : atoms) {
                    Object[] extended = tuple.clone();
                    extended[i] = atom;
                    next.add(extended);
                }
            }
            tuples = next;
        }
        return tuples;
    }

    /**
     * Adds the atoms equality on {@code path} could match below {@code value}, the way the library's matcher
     * walks it; false when that is not certain. Subdocuments at the end of the path, and anything but a
     * subdocument along it, add nothing: a plain value never equals them.
     */
    private static boolean collect(Object value, String[] path, int depth, List<Object> atoms) {
        if (depth == path.length) {
            if (value instanceof Collection<?> elements) {
                for (Object element : elements) {
                    // A subdocument never equals a plain value. A nested array does not either, but the library's
                    // $in matches the elements of one ({a: {$in: ['x']}} matches {a: [['x']]}): left to a scan.
                    if (element instanceof Collection || !(element instanceof Document) && !add(atom(element), atoms)) {
                        return false;
                    }
                }
                if (elements.isEmpty()) {
                    atoms.add(NULL);
                }
                return true;
            }
            return value instanceof Document || add(atom(value), atoms);
        }
        if (value instanceof Document document) {
            Object child = document.containsKey(path[depth]) ? document.get(path[depth]) : Missing.getInstance();
            return collect(child, path, depth + 1, atoms);
        }
        if (value instanceof Collection<?> elements) {
            for (Object element : elements) {
                // The matcher walks arrays in arrays too; MongoDB does not. Left to a scan.
                if (element instanceof Collection || element instanceof Document && !collect(element, path, depth, atoms)) {
                    return false;
                }
            }
            return true;
        }
        atoms.add(NULL);
        return true;
    }

    private static boolean add(Object atom, List<Object> atoms) {
        if (atom == OTHER) {
            return false;
        }
        for (Object known : atoms) {
            if (ATOM_ORDER.compare(known, atom) == 0) {
                return true;
            }
        }
        atoms.add(atom);
        return true;
    }
}
