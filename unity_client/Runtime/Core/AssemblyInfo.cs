using System.Runtime.CompilerServices;

// The Unity layer and the EditMode tests of a Unity project may use the core's internals.
[assembly: InternalsVisibleTo("Gf.Client.Unity")]
[assembly: InternalsVisibleTo("Gf.Client.Tests")]
