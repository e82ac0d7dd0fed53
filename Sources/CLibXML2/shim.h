/* libxml2 for Swift. Debian builds libxml2 with ICU, whose headers clash with Foundation's own ICU
   module ("'UErrorCode' has different definitions in different modules"). casekb never touches the
   ICU fields of xmlCharEncodingHandler, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
