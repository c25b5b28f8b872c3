package dev.wisp.embeddeddb;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The opt-in warm-up ({@code --warm-up}): right after the start, a background thread sends the commands a Wisp
 * turn sends most (inserts, finds and updates through unique and non-unique indexes, upserts, findAndModify) to a
 * throwaway server of the same backend kind, in memory, in this JVM, over loopback as the Node driver does. A fresh
 * JVM otherwise compiles those paths (C2, on the cores the server needs) during its first burst of real traffic.
 * <p>
 * Bounded: {@link #ROUNDS} rounds or {@link #MAX_MILLIS} ms, whichever comes first; it waits while the real server
 * is answering (a command within {@link #QUIET_MILLIS} ms), so real commands never queue behind it. It never delays
 * the start: the connection line is printed before it begins. Its data is discarded. One line on stderr says how it
 * ended.
 */
final class Warmup {

    /** About 3,000 rounds of 12 commands take a warm-up's hot methods past the JIT's C2 thresholds. */
    static final int ROUNDS = Integer.getInteger("wisp.warmup.rounds", 3000);
    static final long MAX_MILLIS = 60_000;
    /** The real server counts as busy this long after its last command. */
    static final long QUIET_MILLIS = 20;
    /** The throwaway collections are emptied this often, so the warm-up's memory stays small. */
    private static final int ROUNDS_PER_RESET = 250;
    private static final String DB = "wisp_warmup";

    private final Supplier<MongoBackend> backendFactory;
    private final Activity activity;
    private int requestId;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;

    private Warmup(Supplier<MongoBackend> backendFactory, Activity activity) {
        this.backendFactory = backendFactory;
        this.activity = activity;
    }

    /** When the real server last answered, so the warm-up gives way to it. */
    static final class Activity {
        private volatile long lastCommandNanos = System.nanoTime() - QUIET_MILLIS * 2_000_000;

        void commandStarted() {
            lastCommandNanos = System.nanoTime();
        }

        boolean busy() {
            return System.nanoTime() - lastCommandNanos < QUIET_MILLIS * 1_000_000;
        }
    }

    /** Starts the warm-up on a daemon thread at the lowest priority. */
    static void start(Supplier<MongoBackend> backendFactory, Activity activity) {
        Thread thread = new Thread(() -> new Warmup(backendFactory, activity).run(), "wisp-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    private void run() {
        long started = System.nanoTime();
        int rounds = 0;
        String outcome = "done";
        MongoServer server = new MongoServer(backendFactory.get());
        try {
            server.bind("127.0.0.1", 0);
            InetSocketAddress address = server.getLocalAddress();
            socket = new Socket(address.getAddress(), address.getPort());
            socket.setTcpNoDelay(true);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            createIndexes();
            long deadline = started + MAX_MILLIS * 1_000_000;
            while (rounds < ROUNDS) {
                while (activity.busy() && System.nanoTime() < deadline) {
                    Thread.sleep(QUIET_MILLIS);
                }
                if (System.nanoTime() >= deadline) {
                    outcome = "stopped at its time limit";
                    break;
                }
                round(rounds);
                rounds++;
                if (rounds % ROUNDS_PER_RESET == 0) {
                    reset();
                }
            }
        } catch (InterruptedException e) {
            outcome = "interrupted";
        } catch (Exception e) {
            outcome = "failed: " + e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
        } finally {
            try {
                if (socket != null) {
                    socket.close();
                }
            } catch (IOException e) {
                // the throwaway server is being shut down anyway
            }
            server.shutdownNow();
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.err.println("wisp-embedded-db: warm-up " + outcome + ": " + rounds + " rounds in " + millis + " ms");
    }

    private void createIndexes() throws IOException {
        index("conversations", new Document("chatbotId", 1).append("visitorId", 1).append("updatedAt", -1), false);
        index("conversations", new Document("chatbotId", 1).append("sessionKey", 1), true);
        index("messages", new Document("conversationId", 1).append("clientMessageId", 1), true);
        index("messages", new Document("conversationId", 1).append("createdAt", 1), false);
        index("usage", new Document("organizationId", 1).append("period", 1), true);
        index("days", new Document("key", 1), true);
        index("versions", new Document("chatbotId", 1), true);
        index("leads", new Document("chatbotId", 1).append("visitorId", 1), false);
    }

    private void index(String collection, Document key, boolean unique) throws IOException {
        Document spec = new Document("key", key).append("name", String.join("_", key.keySet()));
        if (unique) {
            spec.append("unique", Boolean.TRUE);
        }
        command(new Document("createIndexes", collection).append("indexes", List.of(spec)));
    }

    private void reset() throws IOException {
        for (String collection : List.of("conversations", "messages", "leads")) {
            command(new Document("delete", collection)
                .append("deletes", List.of(new Document("q", new Document()).append("limit", 0))));
        }
    }

    /** One turn's worth of commands, shaped as the server's: a new visitor's conversation, its messages, counters. */
    private void round(int round) throws IOException {
        ObjectId bot = new ObjectId("64b7f0c2a1b2c3d4e5f6a7" + String.format("%02x", round % 4));
        ObjectId organization = new ObjectId("64b7f0c2a1b2c3d4e5f6a800");
        String visitor = "v_" + Integer.toHexString(round * 7919) + "a3f09c1d2e";
        Instant now = Instant.now();
        ObjectId conversation = new ObjectId();
        ObjectId question = new ObjectId();
        ObjectId answer = new ObjectId();

        command(find("conversations", new Document("chatbotId", bot).append("visitorId", visitor))
            .append("sort", new Document("updatedAt", -1)).append("limit", 1)
            .append("projection", new Document("_id", 1)));
        command(find("versions", new Document("chatbotId", bot)));
        command(new Document("insert", "conversations").append("ordered", Boolean.TRUE).append("documents", List.of(
            new Document("_id", conversation).append("chatbotId", bot).append("organizationId", organization)
                .append("visitorId", visitor).append("sessionKey", "s_" + conversation.getHexData())
                .append("channel", "widget").append("status", "open").append("messageCount", 0)
                .append("meta", new Document("pageUrl", "https://shop.example/pricing").append("locale", "en"))
                .append("tags", List.of()).append("createdAt", now).append("updatedAt", now))));
        command(new Document("findAndModify", "usage")
            .append("query", new Document("organizationId", organization).append("period", "2026-12"))
            .append("update", new Document("$inc", new Document("messages", 1))
                .append("$setOnInsert", new Document("createdAt", now)))
            .append("upsert", Boolean.TRUE).append("new", Boolean.TRUE));
        command(new Document("insert", "messages").append("ordered", Boolean.TRUE).append("documents", List.of(
            message(question, conversation, bot, "user", "How do I reset my password?", "complete", now)
                .append("clientMessageId", "c_" + question.getHexData()),
            message(answer, conversation, bot, "assistant", "", "pending", now)
                .append("clientMessageId", "a_" + question.getHexData()))));
        command(update("conversations", List.of(
            new Document("q", new Document("_id", conversation))
                .append("u", new Document("$inc", new Document("messageCount", 2))
                    .append("$set", new Document("updatedAt", now).append("lastMessageAt", now))),
            new Document("q", new Document("chatbotId", bot).append("sessionKey", "s_" + conversation.getHexData()))
                .append("u", new Document("$set", new Document("updatedAt", now))))));
        command(find("leads", new Document("chatbotId", bot)
            .append("visitorId", new Document("$in", List.of(visitor, visitor + "b")))));
        command(find("conversations", new Document("_id", conversation)).append("limit", 1));
        command(update("messages", List.of(new Document("q", new Document("_id", answer))
            .append("u", new Document("$set", new Document("status", "complete")
                .append("content", "Open Settings, then Security, and choose Reset password.")
                .append("usage", new Document("promptTokens", 812).append("completionTokens", 64))
                .append("sources", List.of(new Document("sourceId", bot).append("score", 0.82))))
                .append("$unset", new Document("lockedUntil", ""))))));
        command(update("days", List.of(new Document("q", new Document("key", "b" + (round % 4) + ":2026-12-03"))
            .append("u", new Document("$inc", new Document("turns", 1).append("q" + (round % 96), 1)
                .append("visitors." + visitor.substring(0, 6), 1))
                .append("$setOnInsert", new Document("createdAt", now)))
            .append("upsert", Boolean.TRUE))));
        command(update("usage", List.of(new Document("q",
            new Document("organizationId", organization).append("period", "2026-12"))
            .append("u", new Document("$inc", new Document("tokens", 876)).append("$max",
                new Document("lastUsedAt", now))))));
        command(find("messages", new Document("conversationId", conversation)
            .append("status", new Document("$ne", "pending")))
            .append("sort", new Document("createdAt", 1)).append("limit", 20));
    }

    private static Document message(ObjectId id, ObjectId conversation, ObjectId bot, String role, String content,
                                    String status, Instant now) {
        return new Document("_id", id).append("conversationId", conversation).append("chatbotId", bot)
            .append("role", role).append("content", content).append("status", status).append("createdAt", now);
    }

    private static Document find(String collection, Document filter) {
        return new Document("find", collection).append("filter", filter);
    }

    private static Document update(String collection, List<Document> updates) {
        return new Document("update", collection).append("ordered", Boolean.TRUE).append("updates", updates);
    }

    /** Sends one OP_MSG as the Node driver does and reads its reply; a refused command ends the warm-up. */
    private void command(Document body) throws IOException {
        body.append("$db", DB);
        ByteBuf buffer = Unpooled.buffer(512);
        try {
            buffer.writeIntLE(0);
            buffer.writeIntLE(++requestId);
            buffer.writeIntLE(0);
            buffer.writeIntLE(2013);
            buffer.writeIntLE(0);
            buffer.writeByte(0);
            BsonEncoder.encodeDocument(body, buffer);
            buffer.setIntLE(0, buffer.writerIndex());
            buffer.readBytes(out, buffer.readableBytes());
        } finally {
            buffer.release();
        }
        out.flush();
        int length = Integer.reverseBytes(in.readInt());
        byte[] reply = new byte[length - 4];
        in.readFully(reply);
        // Header (12 bytes after the length), flag bits (4) and the section's kind (1) come before the body.
        ByteBuf replyBody = Unpooled.wrappedBuffer(reply, 17, reply.length - 17);
        Document answer = BsonDecoder.decodeBson(replyBody);
        Object ok = answer.get("ok");
        Object writeErrors = answer.get("writeErrors");
        if (!(ok instanceof Number number && number.doubleValue() == 1.0)
            || writeErrors instanceof List<?> errors && !errors.isEmpty()) {
            throw new IOException("the throwaway server refused " + body.keySet().iterator().next() + ": " + answer);
        }
    }
}
