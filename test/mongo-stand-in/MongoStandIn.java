import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A stand-in for mongod in tests: mongo-java-server on 127.0.0.1, in memory or (with --h2 FILE) in a
 * persistent H2 MVStore file, so a stand-in killed and started again on the same port and file keeps
 * its data.
 *
 * <pre>
 *   java -cp 'build/classes:build/lib/*' MongoStandIn [--port N] [--h2 FILE]
 * </pre>
 *
 * Prints one line {@code PORT <n>} once it listens, and exits when its standard input closes (so it
 * never outlives the test process that started it).
 */
public final class MongoStandIn {
  /**
   * Announces MongoDB 5.0 with its real wire version, 13. The Node.js driver 7.x refuses servers
   * below wire version 9, and mongo-java-server 1.47.0's own ServerVersion values (MONGO_3_6,
   * MONGO_4_0, MONGO_5_0) announce wire versions 6 to 8 only.
   */
  private static final MongoVersion VERSION =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
          return 13;
        }
      };

  /**
   * H2Backend commits its MVStore only every second by default: a stand-in killed right after
   * acknowledging a write would lose it, which no real mongod with j:true does. Committing after
   * every command that changed something makes "acknowledged" mean "in the file".
   */
  static final class DurableH2Backend extends H2Backend {
    DurableH2Backend(String file) {
      super(file);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
      try {
        return super.handleCommand(channel, database, command, query);
      } finally {
        if (getMvStore().hasUnsavedChanges()) commit();
      }
    }
  }

  private MongoStandIn() {}

  public static void main(String[] args) throws IOException {
    int port = 0;
    String h2File = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(requireValue(args, ++i, "--port"));
        case "--h2" -> h2File = requireValue(args, ++i, "--h2");
        default -> usage("unknown argument " + args[i]);
      }
    }
    if (port < 0 || port > 65535) usage("--port must be 0..65535");

    MongoBackend backend = h2File == null ? new MemoryBackend() : new DurableH2Backend(h2File);
    backend.version(VERSION);
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    InetSocketAddress address = server.getLocalAddress();

    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, backend), "stand-in-shutdown"));
    System.out.println("PORT " + address.getPort());
    System.out.flush();

    // Standard input closing means the test process is gone (or asked us to stop): shut down.
    InputStream in = System.in;
    byte[] buffer = new byte[256];
    while (in.read(buffer) >= 0) {
      // Input is ignored; only its end matters.
    }
    System.exit(0);
  }

  private static void stop(MongoServer server, MongoBackend backend) {
    try {
      server.shutdownNow();
    } finally {
      // H2Backend.close() commits and closes the file cleanly.
      backend.close();
    }
  }

  private static String requireValue(String[] args, int index, String option) {
    if (index >= args.length) usage(option + " needs a value");
    return args[index];
  }

  private static void usage(String problem) {
    System.err.println("MongoStandIn: " + problem);
    System.err.println("usage: MongoStandIn [--port N] [--h2 FILE]");
    System.exit(2);
  }
}
