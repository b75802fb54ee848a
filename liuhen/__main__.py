from liuhen.manage import main

main()
