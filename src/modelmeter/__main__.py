from modelmeter.cli import main

main()
