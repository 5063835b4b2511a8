"""What the peers' own tests assert about the cards of ../shared/corpus/peers, transcribed from
their test sources at the commits SOURCES.md names (never from syncd's output).

One entry per file: the cards the peer reads from it, in order, each with only the values
that peer's test asserts (None: not asserted). Names and emails are compared trimmed, notes
with CR LF as LF and a card's NOTEs joined by line breaks (syncd keeps one note per contact);
dates as ISO text (`--MM-DD` without a year), the date part only of a date-time.

- ez-vcard: src/test/java/ezvcard/io/text/SampleVCardsTest.java (`# line` is its line of
  `asserter.next(...)`); FN values (`FormattedName`), `email()`, `Categories`, `Birthday`,
  `Anniversary`, `Note`.
- android-vcard: tests/src/com/android/vcard/tests/VCardImporterTests.java,
  VCardImporterNestTests.java and VCardParserTests.java: DISPLAY_NAME, Email.DATA/ADDRESS, Note.NOTE, Event.START_DATE
  (birthday, anniversary), and the FN / NOTE / BDAY nodes of the `_Parse` tests.
- sabre-vobject: tests/VObject/Issue153Test.php, Parser/MimeDirTest.php, VCard21Test.php,
  VCardConverterTest.php (the converted card's BDAY / ANNIVERSARY, its KIND:GROUP).
- khard: test/test_command_line_interface.py (the Name and E-Mail columns it expects),
  test/test_khard.py (a NameQuery), test/test_contacts.py (altid.vcf's first-name-last-name),
  test/test_address_book.py (unparsable.vcf is never closed: no card).
- go-vcard: decoder_test.go and card_test.go (FN, EMAIL, NOTE of the decoded cards).
- node-vcf: test/charset.js, test/index.js, test/collection.js, test/anomalies.js.
- xandikos: tests/test_vcard.py, test_get_index (FN; EMAIL compared sorted: a frozenset).
- py-vobject: tests/test_vcards.py reads each of its two cards (asserts only ORG and groups).
kcontacts' tests compare each re-export with its .ref file; that check is in the test module.
evolution-data-server's tests use its cards for queries, sort orders and migrations of its own
book; nothing is transcribed from them: its cards count in the crash and lost-text checks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Card:
    name: str | None = None
    emails: tuple[str, ...] | frozenset[str] | None = None
    categories: tuple[str, ...] | None = None
    birthday: str | None = None
    anniversary: str | None = None
    note: str | None = None


FIELDS = ("name", "emails", "categories", "birthday", "anniversary", "note")

EXPECTED: dict[str, tuple[Card, ...]] = {
    "ez-vcard/John_Doe_ANDROID.vcf": (  # SampleVCardsTest.java
        Card(emails=("john.doe@company.com",), categories=("My Contacts",)),  # line 88
        Card(emails=("jane.doe@company.com",), categories=("My Contacts",)),  # line 109
        Card(name="Ñ Ñ Ñ Ñ Ñ ", categories=("My Contacts",)),  # line 130
        Card(  # line 162
            name="Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ",
            categories=("My Contacts",),
            note=(  # two NOTEs
                "Ñ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ \n"
                "Ñ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ Ñ Ñ ÑÑ Ñ Ñ Ñ Ñ "
            ),
        ),
        Card(name="Ñ Ñ Ñ Ñ ", emails=("bob@company.com", "ÑÑÑÑÑÑÑÑÑÑÑÑÑÑ")),  # line 213
        Card(name="ÑÑÑÑ", emails=("henry@company.com",), categories=("My Contacts",)),  # line 281
    ),
    "ez-vcard/John_Doe_BLACK_BERRY.vcf": (  # SampleVCardsTest.java
        Card(name="John Doe", note=""),  # line 337
    ),
    "ez-vcard/John_Doe_EVOLUTION.vcf": (  # SampleVCardsTest.java
        Card(  # line 375
            name="Mr. John Richter, James Doe Sr.",
            emails=("john.doe@ibm.com",),
            categories=("VIP",),
            birthday="1980-03-22",
            note=(
                'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" '
                "AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE "
                "IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE "
                "DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE "
                "FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL "
                "DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR "
                "SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER "
                "CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, "
                "OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE "
                "OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE."
            ),
        ),
    ),
    "ez-vcard/John_Doe_GMAIL.vcf": (  # SampleVCardsTest.java
        Card(  # line 767
            name="Mr. John Richter, James Doe Sr.",
            emails=("john.doe@ibm.com",),
            birthday="1980-03-22",
            note=(
                'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" '
                "AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE "
                "IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE "
                "DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE "
                "FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL "
                "DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR "
                "SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER "
                "CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, "
                "OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE "
                "OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\nFavotire "
                "Color: Blue"
            ),
        ),
    ),
    "ez-vcard/John_Doe_IPHONE.vcf": (  # SampleVCardsTest.java
        Card(  # line 1363
            name="Mr. John Richter James Doe Sr.",
            emails=("john.doe@ibm.com",),
            birthday="2012-06-06",
        ),
    ),
    "ez-vcard/John_Doe_LOTUS_NOTES.vcf": (  # SampleVCardsTest.java
        Card(  # line 1481
            name="Mr. Doe John I Johny",
            emails=("john.doe@ibm.com", "billy_bob@gmail.com"),
            birthday="1980-05-21",
            note=(
                'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS '
                'IS"\nAND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO , '
                "THE\nIMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR P "
                "URPOSE\nARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR CONTRIBUTOR S "
                "BE\nLIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, "
                "OR\nCONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF\n "
                "SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS "
                "\nINTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN\n "
                "CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)\nA "
                "RISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE\n "
                "POSSIBILITY OF SUCH DAMAGE."
            ),
        ),
    ),
    "ez-vcard/John_Doe_MAC_ADDRESS_BOOK.vcf": (  # SampleVCardsTest.java
        Card(  # line 1910
            name="Mr. John Richter,James Doe Sr.",
            emails=("john.doe@ibm.com",),
            birthday="2012-06-06",
            note=(
                'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" '
                "AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE "
                "IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE "
                "DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE "
                "FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL "
                "DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR "
                "SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER "
                "CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, "
                "OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE "
                "OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\nFavotire "
                "Color: Blue"
            ),
        ),
    ),
    "ez-vcard/John_Doe_MS_OUTLOOK.vcf": (  # SampleVCardsTest.java
        Card(  # line 1637
            name="Mr. John Richter James Doe Sr.",
            emails=("john.doe@ibm.cm",),
            birthday="1980-03-22",
            note=(
                "THIS SOFTWARE IS PROVIDED BY GEORGE EL-HADDAD ''AS IS'' AND ANY EXPRESS OR "
                "IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF "
                "MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO "
                "EVENT SHALL GEORGE EL-HADDAD OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, "
                "INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, "
                "BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, "
                "DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY "
                "OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING "
                "NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, "
                "EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE."
            ),
        ),
    ),
    "ez-vcard/fullcontact.vcf": (  # SampleVCardsTest.java
        Card(  # line 495
            name="Prefix FirstName MiddleName LastName Suffix",
            emails=(
                "home@example.com",
                "work@example.com",
                "school@example.com",
                "other@example.com",
                "custom@example.com",
            ),
            categories=("Tag",),
            birthday="2016-08-01",
            note="Notes line 1\nNotes line 2",
        ),
    ),
    "ez-vcard/gmail-list.vcf": (  # SampleVCardsTest.java
        Card(name="Arnold Smith", emails=("asmithk@gmail.com",)),  # line 861
        Card(name="Chris Beatle", emails=("chrisy55d@yahoo.com",)),  # line 883
        Card(name="Doug White", emails=("dwhite@gmail.com",)),  # line 905
    ),
    "ez-vcard/gmail-single.vcf": (  # SampleVCardsTest.java
        Card(  # line 932
            name="Greg Dartmouth",
            emails=("gdartmouth@hotmail.com",),
            birthday="1960-09-10",
            note=(
                "This is GMail's note field.\nIt should be added as a NOTE type.\nACustomField: "
                "CustomField"
            ),
        ),
    ),
    "ez-vcard/gmail-single2.vcf": (  # SampleVCardsTest.java
        Card(  # line 1050
            name="VCard Test",
            emails=(
                "email@example.com",
                "homeemail@example.com",
                "workemail@example.com",
                "otheremail@example.com",
                "customcategory@example.com",
            ),
            birthday="1912-06-23",
            note="note line 1\nnote line 2\nCustomField: field value",
        ),
    ),
    "ez-vcard/outlook-2003.vcf": (  # SampleVCardsTest.java
        Card(  # line 2051
            name="John Doe III",
            emails=("jdoe@hotmail.com",),
            birthday="1980-03-21",
            note="This is the note field!!\r\nSecond line\r\n\r\nThird line is empty\r\n",
        ),
    ),
    "ez-vcard/outlook-2007.vcf": (  # SampleVCardsTest.java
        Card(  # line 1761
            name="Mr. Michael Angstadt Jr.",
            emails=("mike.angstadt@gmail.com",),
            birthday="1922-03-10",
            note=(
                "This is the NOTE field\t\r\nI assume it encodes this text inside a NOTE vCard "
                "type.\r\nBut I'm not sure because there's text formatting going on here.\r\nIt "
                "does not preserve the formatting"
            ),
        ),
    ),
    "ez-vcard/rfc2426-example.vcf": (  # SampleVCardsTest.java
        Card(  # line 2390
            name="Frank Dawson",
            emails=("Frank_Dawson@Lotus.com", "fdawson@earthlink.net"),
        ),
        Card(name="Tim Howes", emails=("howes@netscape.com",)),  # line 2437
    ),
    "ez-vcard/rfc6350-example.vcf": (  # SampleVCardsTest.java
        Card(  # line 2298
            name="Simon Perreault",
            emails=("simon.perreault@viagenie.ca",),
            birthday="--02-03",
            anniversary="2009-08-08",
        ),
    ),
    "ez-vcard/thunderbird-MoreFunctionsForAddressBook-extension.vcf": (  # SampleVCardsTest.java
        Card(  # line 2158
            name="John Doe",
            emails=(
                "doe.john@hotmail.com",
                "additional-email@company.com",
                "additional-email1@company.com",
                "additional-email2@company.com",
                "additional-email3@company.com",
            ),
            categories=("category1, category2, category3",),
            birthday="1970-09-21",
            note=(
                "This is the notes field.\nSecond Line\n\nFourth Line\nYou can put anything in "
                'the "note" field; even curse words.'
            ),
        ),
    ),
    # android-vcard: VCardImporterTests.java (test method), VCardImporterNestTests.java
    "android-vcard/v21_simple_1.vcf": (Card(name="Roid Ando"),),  # testV21SimpleCase1_Type_Generic
    "android-vcard/v21_simple_2.vcf": (Card(name="Ando Roid"),),  # testV21SimpleCase2
    "android-vcard/v21_simple_3.vcf": (Card(name="Ando Roid"),),  # testV21SimpleCase3
    "android-vcard/v21_backslash.vcf": (Card(name="A;B\\C\\;D:E\\\\"),),  # testV21BackslashCase
    "android-vcard/v21_org_before_title.vcf": (Card(name="Normal Guy"),),  # testOrgBeforTitle
    "android-vcard/v21_title_before_org.vcf": (Card(name="Nice Guy"),),  # testTitleBeforOrg
    "android-vcard/v21_pref_handling.vcf": (  # testV21PrefToIsPrimary
        Card(name="Smith", emails=("test@example.com", "test2@examination.com")),
    ),
    "android-vcard/v21_complicated.vcf": (  # testV21ComplicatedCase
        Card(
            name="Joe Due",
            emails=("forrestgump@walladalla.com", "cell@example.com"),
            birthday="1980-01-01",
            note="The following note is the example from RFC 2045.\n"
                 "Now's the time for all folk to come to the aid of their country.",
        ),
    ),
    "android-vcard/v21_invalid_multiple_line.vcf": (  # testInvalidMultipleLineV21
        Card(name="Omega", emails=('"Omega" <omega@example.com>',)),
    ),
    "android-vcard/v21_adr_multiple_line.vcf": (  # testAdrMultipleLineV21
        Card(birthday="2008-12-03"),
    ),
    "android-vcard/v30_simple.vcf": (Card(name="And Roid"),),  # testV30Simple
    "android-vcard/v21_japanese_1.vcf": (  # testV21Japanese1Common
        Card(name="\u5b89\u85e4\u30ed\u30a4\u30c9"),
    ),
    "android-vcard/v21_japanese_2.vcf": (  # testV21Japanese2_Type_Generic_Utf8
        Card(name="\u5b89\u85e4 \u30ed\u30a4\u30c9 1", note="\u30e1\u30e2"),
    ),
    "android-vcard/v21_japanese_3.vcf": (  # testV21Japanese3_Parsing
        Card(name="\u4f0a\u80fd \u572d\u4e00 \u4f0a\u4e88"),
    ),
    "android-vcard/v30_japanese.vcf": (  # testV30Japanese_Parsing
        Card(name="\u4f0a\u80fd \u572d\u4e00 \u4f0a\u4e88"),
    ),
    "android-vcard/v21_multiple_entry.vcf": (  # testV21MultipleEntryCase
        Card(name="\u5b89\u85e4\u30ed\u30a4\u30c93"),
        Card(name="\u5b89\u85e4\u30ed\u30a4\u30c94"),
        Card(name="\u5b89\u85e4\u30ed\u30a4\u30c95"),
    ),
    "android-vcard/v21_winmo_65.vcf": (  # testIgnoreAgentV21
        Card(name="Example", anniversary="2009-10-10"),
    ),
    "android-vcard/v21_invalid_comment_line.vcf": (  # testTolerateInvalidCommentLikeLineV21
        Card(
            name="Conference Call",
            note="This is an (sharp ->#<- sharp) example. This message must NOT be ignored.",
        ),
    ),
    "android-vcard/v30_pager.vcf": (Card(name="G M F"),),  # testPagerV30
    "android-vcard/v30_multibyte_param.vcf": (Card(name="G M F"),),  # testMultiBytePropV30
    "android-vcard/v40_sort_as.vcf": (  # testSortAsV40
        Card(name="\u5b89\u85e4 \u30ed\u30a4\u30c9"),
    ),
    "android-vcard/v40_sip.vcf": (Card(name="\u5b89\u85e4 \u30ed\u30a4\u30c9"),),  # testSipV40
    "android-vcard/v30_sip.vcf": (Card(name="Android"),),  # testSipV30
    "android-vcard/v21_sip.vcf": (Card(name="Android"),),  # testSipV21
    "android-vcard/v21_x_param.vcf": (  # testCustomPropertyV21
        Card(name="Roid Ando", emails=("email@example.com", "email2@example.com")),
    ),
    "android-vcard/v21_base64_no_2_crlf.vcf": (  # testBase64Without2CrLf_Parse
        Card(name="fullname"),
    ),
    "android-vcard/v21_blackberry_photo.vcf": (  # testBase64Without2CrLfForBlackBerry_Parse
        Card(name="boogie", emails=("forrestgump@walladalla.com",)),
    ),
    "android-vcard/v21_malformed_photo.vcf": (),  # testMalformedBase64PhotoThrowsVCardException
    "android-vcard/v30_pause_wait.vcf": (Card(name="Pause Wait"),),  # testPauseWaitV30
    "android-vcard/v21_x_android_custom_after_photo.vcf": (  # testV21XAndroidCustomAfterPhoto
        Card(birthday="1975-08-20"),
    ),
    # VCardParserTests.testIosMultiline: one entry across iOS 6.1.3's CR CR LF line ends
    "android-vcard/v30_ios_613_multiline.vcf": (Card(),),
    "android-vcard/v21_nest.vcf": (  # VCardImporterNestTests.testSimpleNest: N values, parent last
        Card(name="nest1"), Card(name="nest2"), Card(name="parent"),
    ),
    # sabre-vobject
    "sabre-vobject/issue153.vcf": (Card(name="Test Benutzer"),),  # Issue153Test
    "sabre-vobject/MimeDirTest.php__testDecodeInlineLatin1.vcf": (Card(name="umlaut u - \u00fc"),),
    "sabre-vobject/MimeDirTest.php__testDecodeWindows1252Inline.vcf": (Card(name="Euro \u20ac"),),
    "sabre-vobject/MimeDirTest.php__testCaseInsensitiveInlineCharset.vcf": (Card(name="Euro"),),
    "sabre-vobject/VCard21Test.php__testPropertyWithNoName.vcf": (  # re-serialised unchanged
        Card(emails=("evert@fruux.com",)),
    ),
    "sabre-vobject/VCardConverterTest.php__testConvert21to40_IN.vcf": (
        Card(name="Johnson Family"),
    ),
    # X-APPLE-OMIT-YEAR=1604 on 1604-04-16 converts to BDAY:--04-16
    "sabre-vobject/VCardConverterTest.php__testBDAYConversion_IN.vcf": (Card(birthday="--04-16"),),
    # ITEM1.ANNIVERSARY:20081210 and its 3.0 form (X-ABDATE labelled _$!<Anniversary>!$_ beside
    # X-ANNIVERSARY) convert into each other
    "sabre-vobject/VCardConverterTest.php__testAnniversary_IN.vcf": (
        Card(anniversary="2008-12-10"),
    ),
    "sabre-vobject/VCardConverterTest.php__testAnniversary_OUT.vcf": (
        Card(anniversary="2008-12-10"),
    ),
    # X-ADDRESSBOOKSERVER-KIND:GROUP converts to KIND:GROUP: a group, not a person
    "sabre-vobject/VCardConverterTest.php__testConvertGroupCard_IN.vcf": (),
    # khard: the Name and E-Mail columns of its CLI tests
    "khard/contact1.vcf": (Card(name="second contact", emails=("user@example.com",)),),
    "khard/org.vcf": (Card(name="ACME Inc."),),
    "khard/individual.vcf": (Card(name="Wile E. Coyote"),),
    "khard/tel-value-uri.vcf": (Card(name="bug 195"),),
    "khard/category.vcf": (Card(name="contact with category", emails=("foo@example.org",)),),
    "khard/nickname.vcf": (Card(name="Michael Smith", emails=("ms@example.org",)),),
    "khard/no-nickname.vcf": (Card(name="Mike Jones", emails=("mj@example.org",)),),
    "khard/joe.vcf": (Card(name="Joe Citizen", emails=("jcitizen@foo.com",)),),
    "khard/post.vcf": (Card(name="With post address"),),
    "khard/labels.vcf": (Card(name="labeled guy"),),  # test_khard.py: NameQuery("labeled guy")
    "khard/altid.vcf": (Card(name="one representation"),),  # test_contacts.py, first N of two
    "khard/unparsable.vcf": (),  # "Component VCARD was never closed"
    # go-vcard: decoderTests
    "go-vcard/decoder_test.go__testCardString.vcf": (
        Card(name="J. Doe", emails=("jdoe@example.com",)),
    ),
    "go-vcard/decoder_test.go__testCardHandmadeString.vcf": (
        Card(name="Joe Bloggs", emails=("me@joebloggs.com",)),
    ),
    "go-vcard/decoder_test.go__testCardGoogleString.vcf": (
        Card(name="Joe Bloggs", emails=("me@joebloggs.com",)),
    ),
    "go-vcard/decoder_test.go__testCardAppleString.vcf": (
        Card(name="Joe Bloggs", emails=("me@joebloggs.com",)),
    ),
    "go-vcard/decoder_test.go__testCardLineFoldingString.vcf": (
        Card(note="This is a long description that exists on a long line."),
    ),
    # node-vcf
    "node-vcf/xing.vcf": (Card(name="Hans-Peter Mustermann"),),  # charset.js
    "node-vcf/vcard-4.0.vcf": (Card(name="Forrest Gump"),),  # index.js
    "node-vcf/multiple.vcf": (Card(), Card(), Card()),  # collection.js: 3 cards
    "node-vcf/vcard-withQuotedPrintableEncoding.js.vcf": (  # anomalies.js, issue #31
        Card(
            note="foobar foobar foobar foobar fo=\nobar foobar foobar foobar foobar=0Afoobar "
                 "foobar foobar foobar foobar fooba=\nr=0Afoobar foobar foobar foobar foobar "
                 "foobar=0Afoobar foobar foobar foobar=\n foobar foobar foobar foobar foobar",
        ),
    ),
    # xandikos: test_get_index
    "xandikos/test_vcard.py__EXAMPLE_VCARD1.vcf": (
        Card(
            name="Jeffrey Harris",
            emails=frozenset({"jeffery@example.org", "jeffrey@osafoundation.org"}),
        ),
    ),
    # py-vobject: test_with_groups, test_vcard_3_parsing read one card each
    "py-vobject/test_vcards.py__vcard_with_groups.vcf": (Card(),),
    "py-vobject/test_vcards.py__simple_3_0_test.vcf": (Card(),),
}
