package dev.wisp.embeddeddb;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import org.h2.mvstore.MVStore;

/** The two storage backends, adjusted for the Node driver and, for H2, for crash safety. */
final class Backends {

    /**
     * The library reports wire version 8 (MongoDB 4.2), which the Node driver 7 refuses.
     * 9 (MongoDB 4.4) is the lowest it accepts; staying that low keeps the driver from
     * assuming newer server features.
     */
    static final MongoVersion VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private Backends() {
    }

    static MongoBackend h2(String fileName) {
        return new DurableH2Backend(fileName).version(VERSION);
    }

    static MongoBackend memory() {
        return new MemoryBackend() {
            @Override
            public MemoryDatabase openOrCreateDatabase(String databaseName) {
                return new IndexNarrowing.NarrowingMemoryDatabase(databaseName, getCursorRegistry());
            }

            @Override
            public Document handleCommand(Channel channel, String database, String command, Document query) {
                return handle(this, database, command, query,
                    name -> super.handleCommand(channel, database, name, query));
            }
        }.version(VERSION);
    }

    /**
     * With EMBEDDED_DB_TRACE=1 each command is logged on stderr: name, collection, the keys of its
     * filter and how long it took, to find commands that scan a collection; so is each build of the
     * in-memory non-unique indexes. Off by default.
     */
    static final boolean TRACE = "1".equals(System.getenv("EMBEDDED_DB_TRACE"));

    private static Document handle(MongoBackend backend, String database, String command, Document query,
                                   Function<String, Document> library) {
        if (!TRACE) {
            return run(backend, database, command, query, library);
        }
        long started = System.nanoTime();
        String outcome = "ok";
        try {
            return run(backend, database, command, query, library);
        } catch (RuntimeException e) {
            outcome = e.getClass().getSimpleName();
            throw e;
        } finally {
            long micros = (System.nanoTime() - started) / 1000;
            System.err.println("wisp-embedded-db trace: " + command + " " + query.get(command)
                + " filter=" + filterKeys(command, query) + " " + micros + "us " + outcome);
        }
    }

    /** The keys of the command's (first) filter, for the trace. */
    private static Object filterKeys(String command, Document query) {
        Object filter = switch (command) {
            case "find", "count", "distinct" -> query.get(command.equals("find") ? "filter" : "query");
            case "findAndModify", "findandmodify" -> query.get("query");
            case "update" -> first(query.get("updates"), "q");
            case "delete" -> first(query.get("deletes"), "q");
            case "aggregate" -> first(query.get("pipeline"), "$match");
            default -> null;
        };
        return filter instanceof Document document ? document.keySet() : "-";
    }

    private static Object first(Object list, String key) {
        if (list instanceof List<?> items && !items.isEmpty() && items.get(0) instanceof Document document) {
            return document.get(key);
        }
        return null;
    }

    /** Runs a command through the library, filling gaps that drivers and apps run into. */
    @SuppressWarnings("unchecked")
    private static Document run(MongoBackend backend, String database, String command, Document query,
                                Function<String, Document> library) {
        // The library only knows the legacy "ismaster" handshake.
        if (command.equals("hello")) {
            Document response = library.apply("ismaster");
            response.put("isWritablePrimary", Boolean.TRUE);
            return response;
        }
        // The library checks for a collection and creates it in two unlocked steps, and builds a new
        // index while writes to the collection go on. Racing these (mongoose creates collections
        // and indexes at startup while the app may already write) lost acknowledged inserts, let
        // duplicates past a new unique index, or failed with ConcurrentModificationException.
        // The library's own locks are the database's and the collection's monitors: hold both.
        if (command.equals("create") || command.equals("createIndexes")) {
            MongoDatabase db = backend.resolveDatabase(database);
            synchronized (db) {
                Object collection = db.resolveCollection(String.valueOf(query.get(command)), false);
                synchronized (collection != null ? collection : db) {
                    return library.apply(command);
                }
            }
        }
        Document response = library.apply(command);
        // The library ignores the filter and lists every collection, so
        // listCollections({name: "x"}) would claim "x" exists whenever any collection does.
        if (command.equalsIgnoreCase("listCollections") && query.get("filter") instanceof Document filter) {
            Document cursor = (Document) response.get("cursor");
            List<Document> batch = (List<Document>) cursor.get("firstBatch");
            DefaultQueryMatcher matcher = new DefaultQueryMatcher();
            batch.removeIf(collection -> !matcher.matches(collection, filter));
        }
        return response;
    }

    /**
     * Sends each reply only after the command's changes are committed and fsynced, and commits only
     * whole commands.
     * <p>
     * An MVStore commit stores every map as it is at that moment, and a command changes several maps
     * one after another (a document, then each of its index entries). Committed while another command
     * was between two of them, a kill -9 before that command's own commit left a document without its
     * index entries, or entries without a document (found missing by its _id, and "Expected one
     * element but got zero" from the next update that met it): measured, about one restart in five
     * after 24 concurrent writers of upserts. So write commands share {@link #commitGate}, a commit takes
     * it alone, and the store commits nowhere else: not once a second from its background writer, not
     * from whichever thread wrote past its memory threshold. Its housekeeping (rewriting chunks that
     * are mostly superseded, so their space is reused) runs here, under the gate, once a second.
     * <p>
     * Commits are grouped: a command that finds another thread committing waits for it, then one of
     * the waiting commands commits for all that finished meanwhile. Each commit writes a chunk of every
     * page changed since the last one, so fewer commits write fewer pages.
     */
    private static final class DurableH2Backend extends H2Backend {

        /** Percent of the chunks' space still live below which housekeeping rewrites chunks. */
        private static final int TARGET_FILL_RATE = 50;
        /** Bytes rewritten per housekeeping round at most, to keep each pause short. */
        private static final int REWRITE_BYTES = 4 << 20;
        /**
         * Commands that never change the store: run outside the gate and answered without a commit.
         * Anything not named here is treated as a write; an aggregate only when its pipeline writes
         * ($out, $merge).
         */
        private static final Set<String> READS = Set.of("find", "getMore", "count", "distinct",
            "listCollections", "listIndexes", "listDatabases", "hello", "ismaster", "isMaster", "ping",
            "buildInfo", "buildinfo", "killCursors", "endSessions", "dbStats", "collStats",
            "serverStatus", "getParameter", "whatsmyuri", "connectionStatus", "getLastError");

        private final ReentrantReadWriteLock commitGate = new ReentrantReadWriteLock();
        /** Held by the thread committing (and fsyncing) for a group of commands. */
        private final ReentrantLock committer = new ReentrantLock();
        /** Write commands finished so far, their changes made. */
        private final AtomicLong finished = new AtomicLong();
        /** How many of them the last fsynced commit holds; written under {@link #committer}. */
        private volatile long durableThrough;
        /** The store's version when it was last fsynced; under {@link #committer}, as every commit is. */
        private long syncedVersion;

        DurableH2Backend(String fileName) {
            super(new MVStore.Builder().fileName(fileName).autoCommitDisabled().autoCommitBufferSize(0).open());
            // A commit per write makes a new chunk each time, and by default superseded chunks
            // are kept 45 s as a fallback in case the OS has not flushed the newer ones yet:
            // 5,000 single inserts made a 400 MB file. Each commit is fsynced at once, so
            // that fallback is not needed and the space can be reused right away.
            getMvStore().setRetentionTime(0);
            syncedVersion = getMvStore().getCurrentVersion();
            Thread housekeeping = new Thread(this::keepHouse, "wisp-h2-housekeeping");
            housekeeping.setDaemon(true);
            housekeeping.start();
        }

        @Override
        protected MongoDatabase openOrCreateDatabase(String databaseName) {
            return new IndexNarrowing.H2Databases(getMvStore()).open(databaseName, getCursorRegistry());
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            Function<String, Document> library = name -> super.handleCommand(channel, database, name, query);
            if (!writes(command, query)) {
                // Outside the gate: a long read (a large aggregate) would hold every commit, and so every
                // write's reply, back for its whole length.
                return handle(this, database, command, query, library);
            }
            commitGate.readLock().lock();
            try {
                return handle(this, database, command, query, library);
            } finally {
                commitGate.readLock().unlock();
                // Also after a failed command, which may have changed some documents.
                persistThrough(finished.incrementAndGet());
            }
        }

        private static boolean writes(String command, Document query) {
            if (command.equals("aggregate")) {
                return query.get("pipeline") instanceof List<?> stages && stages.stream().anyMatch(stage ->
                    stage instanceof Document document
                        && (document.containsKey("$out") || document.containsKey("$merge")));
            }
            return !READS.contains(command);
        }

        /** Returns once a commit holding the `command`-th finished write command is fsynced. */
        private void persistThrough(long command) {
            if (durableThrough >= command) {
                return;
            }
            committer.lock();
            try {
                // A commit made while this thread waited may hold its command already.
                if (durableThrough < command) {
                    long through = finished.get();
                    commit(false);
                    durableThrough = through;
                }
            } finally {
                committer.unlock();
            }
        }

        /**
         * Commits what the finished commands changed (waiting for those under way), and fsyncs it unless
         * nothing was committed since the last fsync (a command that changed nothing, an idle round of
         * housekeeping). Called with {@link #committer} held.
         */
        private void commit(boolean compact) {
            MVStore store = getMvStore();
            commitGate.writeLock().lock();
            try {
                if (compact) {
                    store.compact(TARGET_FILL_RATE, REWRITE_BYTES);
                }
                // Returns at once when nothing changed.
                store.commit();
            } finally {
                commitGate.writeLock().unlock();
            }
            long version = store.getCurrentVersion();
            if (version != syncedVersion) {
                store.getFileStore().sync();
                syncedVersion = version;
            }
        }

        private void keepHouse() {
            while (!getMvStore().isClosed()) {
                try {
                    Thread.sleep(1000);
                    committer.lock();
                    try {
                        if (!getMvStore().isClosed()) {
                            commit(true);
                        }
                    } finally {
                        committer.unlock();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // The next write command meets the same store and reports its error to the client.
                    if (!getMvStore().isClosed()) {
                        System.err.println("wisp-embedded-db: housekeeping failed: " + Launcher.describe(e));
                    }
                }
            }
        }
    }
}
