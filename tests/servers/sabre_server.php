<?php
// sabre/dav 1.8 as a CalDAV + CardDAV server for the test matrix (see sabre.py), run by
// `php -S 127.0.0.1:PORT sabre_server.php`: every request comes through this router script.
// SABRE_DB is the SQLite database, SABRE_AUTH "basic" or "digest" (Digest only, as Baikal).
// Both check the `users` table, whose digesta1 is md5("user:SabreDAV:password").

date_default_timezone_set('UTC');
require_once 'Sabre/autoload.php';

const REALM = 'SabreDAV';

// sabre/dav 1.8 has no PDO backend for Basic: this one reuses the digest hashes.
class BasicPDO extends \Sabre\DAV\Auth\Backend\AbstractBasic {
    function __construct(private \PDO $pdo) {}
    protected function validateUserPass($username, $password) {
        $stmt = $this->pdo->prepare('SELECT digesta1 FROM users WHERE username = ?');
        $stmt->execute([$username]);
        $hash = $stmt->fetchColumn();
        return $hash !== false && hash_equals($hash, md5("$username:" . REALM . ":$password"));
    }
}

$pdo = new \PDO('sqlite:' . getenv('SABRE_DB'));
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$pdo->setAttribute(PDO::ATTR_TIMEOUT, 30);  // other workers may hold the write lock

$authBackend = getenv('SABRE_AUTH') === 'digest'
    ? new \Sabre\DAV\Auth\Backend\PDO($pdo)
    : new BasicPDO($pdo);
$principalBackend = new \Sabre\DAVACL\PrincipalBackend\PDO($pdo);
$caldavBackend = new \Sabre\CalDAV\Backend\PDO($pdo);
$carddavBackend = new \Sabre\CardDAV\Backend\PDO($pdo);

$server = new \Sabre\DAV\Server([
    new \Sabre\CalDAV\Principal\Collection($principalBackend),      // /principals/NAME/
    new \Sabre\CalDAV\CalendarRootNode($principalBackend, $caldavBackend),  // /calendars/NAME/
    new \Sabre\CardDAV\AddressBookRoot($principalBackend, $carddavBackend),  // /addressbooks/NAME/
]);
$server->setBaseUri('/');
$server->addPlugin(new \Sabre\DAV\Auth\Plugin($authBackend, REALM));
$server->addPlugin(new \Sabre\CalDAV\Plugin());
$server->addPlugin(new \Sabre\CardDAV\Plugin());
$server->addPlugin(new \Sabre\DAVACL\Plugin());
$server->exec();
