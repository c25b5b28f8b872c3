package dev.wisp.embeddeddb;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;

/**
 * Runs mongo-java-server as a child process of the Node server.
 * <p>
 * Contract with the parent: stdout carries exactly one line, the connection string, once the
 * server accepts connections; errors are one line on stderr and a non-zero exit. The process
 * stops (committing and closing the store) on SIGTERM, when stdin reaches EOF, or when the
 * parent process is gone.
 */
public final class Launcher {

    private static final String USAGE =
        "usage: java -jar wisp-embedded-db.jar [--host 127.0.0.1] [--port 0] (--file PATH | --memory)";

    private Launcher() {
    }

    public static void main(String[] args) {
        // Taken first: once the parent dies we are re-parented and parent() would name the new one.
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);

        String host = "127.0.0.1";
        int port = 0;
        Path file = null;
        boolean memory = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--host" -> host = value(args, ++i);
                    case "--port" -> port = port(value(args, ++i));
                    case "--file" -> file = Path.of(value(args, ++i)).toAbsolutePath();
                    case "--memory" -> memory = true;
                    default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
                }
            }
            if ((file != null) == memory) {
                throw new IllegalArgumentException("give exactly one of --file PATH or --memory");
            }
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage() + "; " + USAGE);
        }

        InetSocketAddress address = null;
        try {
            if (file != null) {
                Files.createDirectories(file.getParent());
            }
            MongoBackend backend = file != null ? Backends.h2(file.toString()) : Backends.memory();
            MongoServer server = new MongoServer(backend);
            // Registered before binding so a failed start still closes the store cleanly.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server), "wisp-shutdown"));
            server.bind(host, port);
            address = server.getLocalAddress();
        } catch (Exception e) {
            fail(1, "cannot start on " + host + ":" + port
                + (file != null ? " with " + file : " in memory") + ": " + describe(e));
        }

        watch("wisp-stdin-watch", Launcher::awaitStdinEof);
        if (parent != null) {
            watch("wisp-parent-watch", () -> awaitExit(parent));
        }

        System.out.println("mongodb://" + hostText(address) + ":" + address.getPort());
        System.out.flush();
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--port must be 0..65535, got '" + text + "'");
    }

    /** The numeric address, so Node never resolves "localhost" to ::1 when we listen on IPv4. */
    private static String hostText(InetSocketAddress address) {
        String ip = address.getAddress().getHostAddress();
        return address.getAddress() instanceof Inet6Address ? "[" + ip + "]" : ip;
    }

    /** The parent holds our stdin pipe; EOF means it closed it or died. */
    private static void awaitStdinEof() {
        byte[] buffer = new byte[512];
        try {
            while (System.in.read(buffer) >= 0) {
                // input is ignored; we only wait for EOF
            }
        } catch (IOException e) {
            // a broken stdin means the parent is gone too
        }
        System.exit(0);
    }

    /** Fallback for a parent that dies while something else still holds our stdin open. */
    private static void awaitExit(ProcessHandle parent) {
        try {
            while (parent.isAlive()) {
                Thread.sleep(1000);
            }
        } catch (InterruptedException e) {
            return;
        }
        System.exit(0);
    }

    private static void watch(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Closes client connections, then the backend; H2Backend.close commits and closes the MVStore. */
    private static void stop(MongoServer server) {
        try {
            server.shutdownNow();
        } catch (RuntimeException e) {
            System.err.println("wisp-embedded-db: error during shutdown: " + describe(e));
        }
    }

    /** Exception messages alone can be a bare path ("/tmp/x"), so the type is kept. */
    static String describe(Throwable e) {
        String text = e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
        if (e.getCause() != null && e.getCause() != e) {
            text += " (caused by " + describe(e.getCause()) + ")";
        }
        return text.replaceAll("\\s*\\R\\s*", " ");
    }

    private static void fail(int status, String message) {
        System.err.println("wisp-embedded-db: " + message);
        System.exit(status);
    }
}
