package i18n

// Catalogue exposes the message catalogue to the tests in package i18n_test.
var Catalogue = catalogue

// SearchKeyUnicode is SearchKey without its ASCII shortcut.
var SearchKeyUnicode = searchKeyUnicode
